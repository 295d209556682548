//! `loxwarden`: thin main. Parse the command line, run one mode, map the result to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    loxwarden::logger::init();
    let (global, command) = match loxwarden::cli::parse(std::env::args_os().skip(1)) {
        Ok(parsed) => parsed,
        Err(msg) => {
            eprintln!("loxwarden: {msg}\nTry 'loxwarden --help'.");
            return ExitCode::from(2);
        }
    };
    match loxwarden::run::run(&global, command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loxwarden: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
