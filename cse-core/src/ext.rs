//! vCD's API-extension message envelope: the JSON array vCD publishes for a
//! forwarded HTTP request and the reply object the extension sends back.
