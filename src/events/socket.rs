//! Opening the WebSocket Dialpad gives a URL for, and reading its frames as text.
//!
//! The URL carries Dialpad's connection token ("a temporary token encoded when you create a new
//! websocket", https://developers.dialpad.com/docs/event-subscriptions-via-websocket), so errors
//! name only its scheme, host and port. No credential of the operator's is sent there.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::signature::MAX_FRAME_BYTES;

/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open connection.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a connection could not be opened or went away.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The URL is not a `ws://` or `wss://` URL.
    #[error("Dialpad gave a WebSocket URL that is not ws:// or wss://")]
    NotWebSocket,
    /// Opening failed.
    #[error("cannot open the WebSocket at {at}: {detail}")]
    Open {
        /// Scheme, host and port.
        at: String,
        /// Why, without the URL.
        detail: String,
    },
}

/// Scheme, host and port of `url`, for messages.
pub fn origin_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => format!(
            "{}://{}{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default(),
            parsed.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "an unreadable URL".into(),
    }
}

/// Opens `url`, trusting `tls` for `wss://` (the platform's roots when `None`).
pub async fn open(url: &str, tls: Option<Arc<rustls::ClientConfig>>) -> Result<Socket, SocketError> {
    let scheme = reqwest::Url::parse(url)
        .map(|u| u.scheme().to_owned())
        .unwrap_or_default();
    if scheme != "ws" && scheme != "wss" {
        return Err(SocketError::NotWebSocket);
    }
    let at = origin_of(url);
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_FRAME_BYTES);
    config.max_frame_size = Some(MAX_FRAME_BYTES);
    let connector = match tls {
        Some(tls) => Some(Connector::Rustls(tls)),
        None => Some(Connector::Rustls(Arc::new(
            crate::tls::platform_client_config().map_err(|detail| SocketError::Open {
                at: at.clone(),
                detail,
            })?,
        ))),
    };
    let opened = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio_tungstenite::connect_async_tls_with_config(url, Some(config), false, connector),
    )
    .await;
    match opened {
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(error)) => Err(SocketError::Open {
            at,
            detail: describe(&error),
        }),
        Err(_) => Err(SocketError::Open {
            at,
            detail: format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
        }),
    }
}

/// What reading a socket gave.
#[derive(Debug)]
pub enum Read {
    /// A text frame (a binary one that is UTF-8 counts too).
    Frame(String),
    /// Something not readable as text; skipped.
    Unreadable,
    /// The connection ended (closed, dropped or failed), with why.
    Ended(String),
}

/// The next frame of `socket` that carries data (pings and pongs are answered and skipped).
pub async fn next_frame(socket: &mut Socket) -> Read {
    loop {
        return match socket.next().await {
            Some(Ok(Message::Text(text))) => Read::Frame(text.to_string()),
            Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes.to_vec()) {
                Ok(text) => Read::Frame(text),
                Err(_) => Read::Unreadable,
            },
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(frame))) => Read::Ended(match frame {
                Some(frame) => format!("Dialpad closed it ({})", u16::from(frame.code)),
                None => "Dialpad closed it".into(),
            }),
            Some(Err(error)) => Read::Ended(describe(&error)),
            None => Read::Ended("the connection ended".into()),
        };
    }
}

/// A tungstenite error without the request (its URL holds the token).
fn describe(error: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match error {
        Error::Http(response) => format!("HTTP {}", response.status().as_u16()),
        Error::Io(io) => format!("connection failed ({})", io.kind()),
        Error::Tls(_) => "TLS handshake failed".into(),
        Error::Capacity(_) => "a frame was larger than any change-log event".into(),
        Error::Protocol(problem) => format!("WebSocket protocol error ({problem})"),
        Error::ConnectionClosed | Error::AlreadyClosed => "the connection was closed".into(),
        _ => "the WebSocket failed".into(),
    }
}
