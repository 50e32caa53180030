"""VADER (the Python sentiment lexicon) over the messages given one JSON string per line on
standard input: the baseline `cargo bench --bench assess` compares the policy engine with.
Prints one line: messages, seconds (best of three passes), messages per second, then the same
two by the CPU time this process was given (on a busy machine, wall time counts the waits)."""
import json
import sys
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

texts = [json.loads(line) for line in sys.stdin if line.strip()]
analyser = SentimentIntensityAnalyzer()
best = None
best_cpu = None
for _ in range(3):
    start = time.perf_counter()
    start_cpu = time.thread_time()
    for t in texts:
        analyser.polarity_scores(t)
    took = time.perf_counter() - start
    took_cpu = time.thread_time() - start_cpu
    best = took if best is None else min(best, took)
    best_cpu = took_cpu if best_cpu is None else min(best_cpu, took_cpu)
print(f"{len(texts)} {best:.6f} {len(texts) / best:.1f} {best_cpu:.6f} {len(texts) / best_cpu:.1f}")
