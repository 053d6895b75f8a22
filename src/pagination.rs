//! Pagination of every list (`tools/list`, `resources/list`, `resources/templates/list`,
//! `prompts/list`): opaque cursors, `--page-size` items a page.

use crate::jsonrpc::{ErrorObject, INVALID_PARAMS, quote};
use base64::Engine as _;
use serde_json::{Map, Value};

const PREFIX: &str = "fastmcp:";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The page of `items` that `cursor` asks for, and the cursor of the next page if any.
/// A cursor this server did not hand out is -32602.
pub(crate) fn page<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
    page_size: usize,
) -> Result<(Vec<T>, Option<String>), ErrorObject> {
    let start = match cursor {
        None => 0,
        Some(c) => decode(c).filter(|&o| o <= items.len()).ok_or_else(|| {
            ErrorObject::new(
                INVALID_PARAMS,
                format!("Invalid params: unknown cursor {:?}", quote(c)),
            )
        })?,
    };
    let end = (start + page_size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| encode(end));
    Ok((items[start..end].to_vec(), next))
}

/// A list result: the page of `items` under `key`, each shaped by `wire`, and `nextCursor` when
/// another page follows.
pub(crate) fn list_result<T: Clone>(
    key: &str,
    items: &[T],
    cursor: Option<&str>,
    page_size: usize,
    wire: impl Fn(&T) -> Value,
) -> Result<Value, ErrorObject> {
    let (page, next) = self::page(items, cursor, page_size)?;
    let mut v = Map::new();
    v.insert(
        key.to_string(),
        Value::Array(page.iter().map(wire).collect()),
    );
    if let Some(c) = next {
        v.insert("nextCursor".to_string(), Value::String(c));
    }
    Ok(Value::Object(v))
}

fn encode(offset: usize) -> String {
    B64.encode(format!("{PREFIX}{offset}"))
}

fn decode(cursor: &str) -> Option<usize> {
    let raw = B64.decode(cursor).ok()?;
    std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix(PREFIX)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_cursors() {
        let items: Vec<u32> = (0..5).collect();
        let (p, next) = page(&items, None, 2).unwrap();
        assert_eq!(p, vec![0, 1]);
        let (p, next) = page(&items, next.as_deref(), 2).unwrap();
        assert_eq!(p, vec![2, 3]);
        let (p, next) = page(&items, next.as_deref(), 2).unwrap();
        assert_eq!((p, next), (vec![4], None));
        for bad in ["garbage".to_string(), encode(99)] {
            assert!(page(&items, Some(&bad), 2).is_err(), "{bad}");
        }
    }
}
