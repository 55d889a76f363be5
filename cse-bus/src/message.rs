//! Messages as they travel on the bus: body, AMQP basic properties, headers,
//! and the reply rule vCD extensions follow (exchange from the
//! `replyToExchange` header, routing key from `reply_to`, `correlation_id` copied).

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::error::BusError;

/// Header vCD puts on extension requests naming the exchange to reply to.
pub const REPLY_TO_EXCHANGE_HEADER: &str = "replyToExchange";

/// A header value. AMQP has more types; these are the ones vCD and CSE use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    /// A string.
    Str(String),
    /// A signed integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl HeaderValue {
    /// The value as text, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HeaderValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for HeaderValue {
    fn from(s: &str) -> Self {
        HeaderValue::Str(s.to_owned())
    }
}

impl From<String> for HeaderValue {
    fn from(s: String) -> Self {
        HeaderValue::Str(s)
    }
}

impl From<i64> for HeaderValue {
    fn from(v: i64) -> Self {
        HeaderValue::Int(v)
    }
}

impl From<bool> for HeaderValue {
    fn from(v: bool) -> Self {
        HeaderValue::Bool(v)
    }
}

/// The AMQP basic properties a message carries (the subset vCD and CSE use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    /// MIME type of the body.
    pub content_type: Option<String>,
    /// Pairs a reply with its request.
    pub correlation_id: Option<String>,
    /// The queue a reply goes to.
    pub reply_to: Option<String>,
    /// The sender's id of the message.
    pub message_id: Option<String>,
    /// The sending application.
    pub app_id: Option<String>,
    /// 1 = transient, 2 = persistent.
    pub delivery_mode: Option<u8>,
    /// Message priority.
    pub priority: Option<u8>,
    /// Application headers.
    pub headers: BTreeMap<String, HeaderValue>,
}

impl Properties {
    /// The string value of a header, if present and a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(HeaderValue::as_str)
    }
}

/// A message: a body and its properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The body.
    pub body: Bytes,
    /// Its properties.
    pub properties: Properties,
}

impl Message {
    /// A message with the given body and no properties.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Message {
            body: body.into(),
            properties: Properties::default(),
        }
    }

    /// With this correlation id.
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.properties.correlation_id = Some(id.into());
        self
    }

    /// With this reply queue.
    pub fn with_reply_to(mut self, queue: impl Into<String>) -> Self {
        self.properties.reply_to = Some(queue.into());
        self
    }

    /// With this content type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.properties.content_type = Some(content_type.into());
        self
    }

    /// With this delivery mode (1 transient, 2 persistent).
    pub fn with_delivery_mode(mut self, mode: u8) -> Self {
        self.properties.delivery_mode = Some(mode);
        self
    }

    /// With this header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<HeaderValue>) -> Self {
        self.properties.headers.insert(name.into(), value.into());
        self
    }
}

/// Where the reply to `request` goes: (exchange, routing key). The exchange is
/// the `replyToExchange` header (the default exchange `""` when absent, which
/// routes straight to the queue named `reply_to`).
pub fn reply_address(request: &Properties) -> Result<(String, String), BusError> {
    let routing_key = request
        .reply_to
        .clone()
        .filter(|r| !r.is_empty())
        .ok_or(BusError::NoReplyTo)?;
    let exchange = request
        .header_str(REPLY_TO_EXCHANGE_HEADER)
        .unwrap_or_default()
        .to_owned();
    Ok((exchange, routing_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_address_uses_header_and_reply_to() {
        let props = Message::new("x")
            .with_reply_to("vcd.replyQueue.1")
            .with_header(REPLY_TO_EXCHANGE_HEADER, "vcd.replyExchange")
            .properties;
        assert_eq!(
            reply_address(&props).unwrap(),
            (
                "vcd.replyExchange".to_owned(),
                "vcd.replyQueue.1".to_owned()
            )
        );
    }

    #[test]
    fn reply_address_defaults_to_the_default_exchange() {
        let props = Message::new("x").with_reply_to("q").properties;
        assert_eq!(
            reply_address(&props).unwrap(),
            (String::new(), "q".to_owned())
        );
    }

    #[test]
    fn reply_address_needs_reply_to() {
        assert_eq!(
            reply_address(&Properties::default()),
            Err(BusError::NoReplyTo)
        );
        let props = Message::new("x").with_reply_to("").properties;
        assert_eq!(reply_address(&props), Err(BusError::NoReplyTo));
    }
}
