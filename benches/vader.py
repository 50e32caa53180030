"""VADER (the Python sentiment lexicon) over the messages given one JSON string per line on
standard input: the baseline `cargo bench --bench assess` compares the policy engine with.
Prints one line: messages, seconds (best of three passes), messages per second."""
import json
import sys
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

texts = [json.loads(line) for line in sys.stdin if line.strip()]
analyser = SentimentIntensityAnalyzer()
best = None
for _ in range(3):
    start = time.perf_counter()
    for t in texts:
        analyser.polarity_scores(t)
    took = time.perf_counter() - start
    best = took if best is None else min(best, took)
print(f"{len(texts)} {best:.6f} {len(texts) / best:.1f}")
