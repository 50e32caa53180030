//! systemd's readiness protocol (`Type=notify`): the bot tells the service manager it is ready
//! once it takes requests, and that it is stopping on SIGTERM, so `systemctl start` returns
//! only when the web chat answers and dependants start after it. Without `NOTIFY_SOCKET`
//! (anywhere but under systemd) nothing is sent.

use std::os::unix::net::UnixDatagram;

/// Ready: the listener is bound and the record takes messages.
pub fn ready() {
    send("READY=1\nSTATUS=Taking messages");
}

/// Stopping: requests in flight finish and what was taken is committed.
pub fn stopping() {
    send("STOPPING=1\nSTATUS=Finishing requests in flight");
}

fn send(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sent = UnixDatagram::unbound().and_then(|socket| {
        let path = path.to_string_lossy();
        match path.strip_prefix('@') {
            // An abstract socket (Linux): systemd's usual choice.
            Some(name) => {
                use std::os::linux::net::SocketAddrExt as _;
                let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                socket.send_to_addr(state.as_bytes(), &address)
            }
            None => socket.send_to(state.as_bytes(), path.as_ref()),
        }
    });
    if let Err(e) = sent {
        tracing::warn!(error = %e, "cannot tell systemd the service's state");
    }
}
