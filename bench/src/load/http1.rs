//! The HTTP/1.1 fast path of the load client (being written).
