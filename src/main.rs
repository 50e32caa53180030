//! The `intake` binary: everything lives in the library; see `intake --help`.

fn main() -> std::process::ExitCode {
    intake::cli::main()
}
