//! Reading what a request asks for: query parameters (percent-decoded) and headers, with
//! typed, bounded numbers and a 400 naming the parameter when one is malformed.

use http::{Response, StatusCode, Uri};

use super::{response, Body};

/// The first value of query parameter `name`, percent-decoded (`+` is a space).
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(key) == name).then(|| percent_decode(value))
    })
}

/// A malformed query parameter; its message names the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadParam(pub String);

impl BadParam {
    /// 400 `{"error": message}`.
    pub fn into_response(self) -> Response<Body> {
        response::error(StatusCode::BAD_REQUEST, &self.0)
    }
}

/// Parameter `name` as a number in `0..=max`, `default` when absent.
pub fn bounded_u64(uri: &Uri, name: &str, default: Option<u64>, max: u64) -> Result<u64, BadParam> {
    let bad = |why: &str| BadParam(format!("query parameter {name} {why}"));
    match (query_param(uri, name), default) {
        (None, Some(default)) => Ok(default),
        (None, None) => Err(bad("is required")),
        (Some(text), _) => match text.parse::<u64>() {
            Ok(value) if value <= max => Ok(value),
            Ok(_) => Err(bad(&format!("must be at most {max}"))),
            Err(_) => Err(bad(&format!("must be a whole number, got {text:?}"))),
        },
    }
}

/// Whether flag `name` is set (`1`, `true`, `yes`, or present without a value).
pub fn flag(uri: &Uri, name: &str) -> bool {
    matches!(
        query_param(uri, name).as_deref(),
        Some("" | "1" | "true" | "yes")
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .and_then(|pair| hex_pair(pair[0], pair[1]))
            {
                Some(byte) => {
                    decoded.push(byte);
                    i += 2;
                }
                None => decoded.push(b'%'),
            },
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(text: &str) -> Uri {
        text.parse().unwrap()
    }

    #[test]
    fn query_params_are_found_and_decoded() {
        let u = uri("/api/blogs?x=1&category=web%20dev&tag=a+b");
        assert_eq!(query_param(&u, "category").as_deref(), Some("web dev"));
        assert_eq!(query_param(&u, "tag").as_deref(), Some("a b"));
        assert_eq!(query_param(&u, "missing"), None);
        assert_eq!(
            query_param(&uri("/x?bad=%zz%4"), "bad").as_deref(),
            Some("%zz%4")
        );
        assert_eq!(query_param(&uri("/x"), "bad"), None);
    }

    #[test]
    fn numbers_are_bounded_and_defaulted() {
        let u = uri("/api/report?work_ms=50&big=99999&word=ten");
        assert_eq!(bounded_u64(&u, "work_ms", None, 1000).unwrap(), 50);
        assert_eq!(bounded_u64(&u, "count", Some(7), 10).unwrap(), 7);
        for (name, default) in [("big", None), ("word", None), ("count", None)] {
            let error = bounded_u64(&u, name, default, 1000).unwrap_err();
            assert!(error.0.contains(name), "{error:?}");
            assert_eq!(error.into_response().status(), StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn flags() {
        assert!(flag(&uri("/r?async=1"), "async"));
        assert!(flag(&uri("/r?async"), "async"));
        assert!(!flag(&uri("/r?async=0"), "async"));
        assert!(!flag(&uri("/r"), "async"));
    }
}
