//! A process-wide count of panics outside the test threads themselves (engine workers, the
//! link, the simulator). The engine turns a panicking tool call into an error answer, so "no
//! panic" cannot be read from the answers alone: the hostile corpus and the soak assert this
//! count stays at zero.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

static COUNT: AtomicUsize = AtomicUsize::new(0);
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

/// Installs the counting hook (once; the previous hook still prints).
pub fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let name = std::thread::current().name().unwrap_or("").to_owned();
            // libtest names its threads after the test (`module::test`); the code under test
            // names its own threads (`mcp-call-7`, `demo-session`, …) or leaves them unnamed.
            if !name.contains("::") && name != "main" {
                COUNT.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut s) = SEEN.lock() {
                    s.push(format!("[{name}] {info}"));
                }
            }
            previous(info);
        }));
    });
}

/// Panics so far outside test threads, with their messages.
pub fn seen() -> (usize, Vec<String>) {
    let list = SEEN.lock().map(|s| s.clone()).unwrap_or_default();
    (COUNT.load(Ordering::SeqCst), list)
}
