//! A child process's output, line by line.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::{Receiver, channel};

/// Forwards each line of `output` (a child's stdout or stderr) to the receiver, from a
/// thread of its own, so a test can wait for a line with a timeout. The thread ends
/// with the output, or when the receiver is dropped.
pub fn lines_of(output: impl Read + Send + 'static) -> Receiver<String> {
    let (lines, received) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}
