//! XML-RPC codec: a lenient `methodCall` parser and an encoder whose output is byte-identical to
//! Python's `xmlrpc.client.dumps`, which is what Gandi's v4 endpoint answered with.
//!
//! This module knows nothing of Gandi: it turns bytes into [`Value`]s and back.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use roxmltree::{Document, Node, ParsingOptions};

/// Bodies above this size are refused before parsing. Real v4 calls are a few hundred bytes; a
/// `domain.zone.record.set` with a few hundred records stays far below it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Nesting limit for arrays and structs. The walk over values is recursive, so this bounds the
/// stack no matter what the input looks like (roxmltree itself builds its tree without recursion).
pub const MAX_DEPTH: usize = 64;

/// Node budget handed to roxmltree, so a body made of millions of empty elements cannot make the
/// parser allocate without bound.
const MAX_NODES: u32 = 200_000;

/// One XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<int>`, `<i4>` and `<i8>` all land here. Python refuses to encode integers outside the
    /// 32-bit range; the encoder writes those as `<i8>` instead of failing.
    Int(i64),
    Boolean(bool),
    String(String),
    Double(f64),
    /// The raw ISO 8601 text, kept as sent (Gandi writes `20180613T12:03:58`).
    DateTime(String),
    Base64(Vec<u8>),
    Array(Vec<Value>),
    /// Members in wire order: the encoder writes them back in this order.
    Struct(Vec<(String, Value)>),
    Nil,
}

impl Value {
    /// Shorthand for building a string value.
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// The member `name` of a struct, if this is a struct that has it. With duplicate names the
    /// last one wins, as in the Python dict a Gandi server built from the same body.
    pub fn member(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(members) => members
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The XML-RPC type name, used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Boolean(_) => "boolean",
            Value::String(_) => "string",
            Value::Double(_) => "double",
            Value::DateTime(_) => "dateTime.iso8601",
            Value::Base64(_) => "base64",
            Value::Array(_) => "array",
            Value::Struct(_) => "struct",
            Value::Nil => "nil",
        }
    }
}

/// A parsed `methodCall`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    pub method_name: String,
    pub params: Vec<Value>,
}

/// A parsed `methodResponse`: what a client of the v4 API sees.
#[derive(Debug, Clone, PartialEq)]
pub enum MethodResponse {
    Success(Value),
    Fault { code: i64, message: String },
}

/// Why a body could not be read as XML-RPC. The messages are short and free of Rust jargon so
/// that they can be placed inside a Gandi-style fault string.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodecError {
    #[error("request body too large ({size} bytes, limit {limit})")]
    TooLarge { size: usize, limit: usize },
    #[error("request body is not UTF-8")]
    NotUtf8,
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    #[error("expected <{expected}> as the root element, found <{found}>")]
    WrongRoot {
        expected: &'static str,
        found: String,
    },
    #[error("missing <methodName>")]
    MissingMethodName,
    #[error("unexpected <{found}> inside <{parent}>")]
    UnexpectedElement { found: String, parent: String },
    #[error("unexpected text inside <{parent}>")]
    UnexpectedText { parent: String },
    #[error("<{parent}> has no <value>")]
    MissingValue { parent: String },
    #[error("<member> has no <name>")]
    MissingMemberName,
    #[error("unknown value type <{0}>")]
    UnknownType(String),
    /// Worded like Python's `int()` error, which is what Gandi's fault 1 carries.
    #[error("invalid literal for int() with base 10: '{0}'")]
    BadInt(String),
    #[error("could not convert string to float: '{0}'")]
    BadDouble(String),
    #[error("bad boolean value")]
    BadBoolean(String),
    #[error("bad base64 data")]
    BadBase64,
    #[error("values nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("a methodResponse must hold exactly one <param> or one <fault>")]
    BadResponseShape,
}

/// Parses a `methodCall` body.
///
/// Lenient in the ways real clients need: `<param>` may sit directly under `<methodCall>` without
/// a `<params>` wrapper (lego), whitespace may surround every element (lego indents inside
/// `<value>`), and an untyped `<value>text</value>` is a string whose whitespace is kept as is.
pub fn parse_method_call(body: &[u8]) -> Result<MethodCall, CodecError> {
    let text = check_body(body)?;
    let doc = parse_document(text)?;
    let root = doc.root_element();
    if root.tag_name().name() != "methodCall" {
        return Err(CodecError::WrongRoot {
            expected: "methodCall",
            found: root.tag_name().name().to_owned(),
        });
    }

    let mut method_name = None;
    let mut params = Vec::new();
    for child in element_children(root)? {
        match child.tag_name().name() {
            "methodName" => method_name = Some(text_of(child)?.trim().to_owned()),
            "params" => {
                for param in element_children(child)? {
                    expect_name(param, "param", "params")?;
                    params.push(parse_param(param)?);
                }
            }
            "param" => params.push(parse_param(child)?),
            other => {
                return Err(CodecError::UnexpectedElement {
                    found: other.to_owned(),
                    parent: "methodCall".to_owned(),
                });
            }
        }
    }
    let method_name = method_name.ok_or(CodecError::MissingMethodName)?;
    Ok(MethodCall {
        method_name,
        params,
    })
}

/// Parses a `methodResponse` body (what the encoder writes, or what a real Gandi sent). Used by
/// clients of the mock and by the round-trip tests.
pub fn parse_method_response(body: &[u8]) -> Result<MethodResponse, CodecError> {
    let text = check_body(body)?;
    let doc = parse_document(text)?;
    let root = doc.root_element();
    if root.tag_name().name() != "methodResponse" {
        return Err(CodecError::WrongRoot {
            expected: "methodResponse",
            found: root.tag_name().name().to_owned(),
        });
    }
    let children = element_children(root)?;
    let [only] = children.as_slice() else {
        return Err(CodecError::BadResponseShape);
    };
    match only.tag_name().name() {
        "params" => {
            let params = element_children(*only)?;
            let [param] = params.as_slice() else {
                return Err(CodecError::BadResponseShape);
            };
            expect_name(*param, "param", "params")?;
            Ok(MethodResponse::Success(parse_param(*param)?))
        }
        "fault" => {
            let value = single_value(*only, "fault")?;
            let value = parse_value(value, 0)?;
            match (value.member("faultCode"), value.member("faultString")) {
                (Some(Value::Int(code)), Some(Value::String(message))) => {
                    Ok(MethodResponse::Fault {
                        code: *code,
                        message: message.clone(),
                    })
                }
                _ => Err(CodecError::BadResponseShape),
            }
        }
        _ => Err(CodecError::BadResponseShape),
    }
}

fn check_body(body: &[u8]) -> Result<&str, CodecError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(CodecError::TooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    std::str::from_utf8(body).map_err(|_| CodecError::NotUtf8)
}

fn parse_document(text: &str) -> Result<Document<'_>, CodecError> {
    let options = ParsingOptions {
        // A DTD is never needed for XML-RPC and is the door to entity-expansion tricks.
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|e| CodecError::Malformed(e.to_string()))
}

/// Element children of `node`, refusing any non-whitespace text between them: in structural
/// elements (`params`, `param`, `struct`, ...) text is a sign of a malformed body, while
/// indentation is normal.
fn element_children<'a, 'i>(node: Node<'a, 'i>) -> Result<Vec<Node<'a, 'i>>, CodecError> {
    let mut out = Vec::new();
    for child in node.children() {
        if child.is_element() {
            out.push(child);
        } else if child.is_text() && !child.text().unwrap_or("").trim().is_empty() {
            return Err(CodecError::UnexpectedText {
                parent: node.tag_name().name().to_owned(),
            });
        }
    }
    Ok(out)
}

/// The text content of a leaf element; an element inside a leaf is an error.
fn text_of(node: Node<'_, '_>) -> Result<String, CodecError> {
    let mut out = String::new();
    for child in node.children() {
        if child.is_element() {
            return Err(CodecError::UnexpectedElement {
                found: child.tag_name().name().to_owned(),
                parent: node.tag_name().name().to_owned(),
            });
        }
        if child.is_text() {
            out.push_str(child.text().unwrap_or(""));
        }
    }
    Ok(out)
}

fn expect_name(node: Node<'_, '_>, name: &str, parent: &str) -> Result<(), CodecError> {
    if node.tag_name().name() == name {
        Ok(())
    } else {
        Err(CodecError::UnexpectedElement {
            found: node.tag_name().name().to_owned(),
            parent: parent.to_owned(),
        })
    }
}

/// The one `<value>` inside `parent`.
fn single_value<'a, 'i>(parent: Node<'a, 'i>, name: &str) -> Result<Node<'a, 'i>, CodecError> {
    let children = element_children(parent)?;
    match children.as_slice() {
        [value] if value.tag_name().name() == "value" => Ok(*value),
        [] => Err(CodecError::MissingValue {
            parent: name.to_owned(),
        }),
        [only] => Err(CodecError::UnexpectedElement {
            found: only.tag_name().name().to_owned(),
            parent: name.to_owned(),
        }),
        [first, extra, ..] => {
            let found = if first.tag_name().name() == "value" {
                extra
            } else {
                first
            };
            Err(CodecError::UnexpectedElement {
                found: found.tag_name().name().to_owned(),
                parent: name.to_owned(),
            })
        }
    }
}

fn parse_param(param: Node<'_, '_>) -> Result<Value, CodecError> {
    parse_value(single_value(param, "param")?, 0)
}

fn parse_value(value: Node<'_, '_>, depth: usize) -> Result<Value, CodecError> {
    if depth >= MAX_DEPTH {
        return Err(CodecError::TooDeep { limit: MAX_DEPTH });
    }
    let typed: Vec<_> = value.children().filter(|c| c.is_element()).collect();
    let typed = match typed.as_slice() {
        // No type element: the text itself is the string, whitespace included.
        [] => return text_of(value).map(Value::String),
        [one] => *one,
        [_, extra, ..] => {
            return Err(CodecError::UnexpectedElement {
                found: extra.tag_name().name().to_owned(),
                parent: "value".to_owned(),
            });
        }
    };
    // Around a type element only indentation is allowed.
    element_children(value)?;

    let name = typed.tag_name().name();
    match name {
        "string" => text_of(typed).map(Value::String),
        "i4" | "int" | "i8" => parse_int(&text_of(typed)?).map(Value::Int),
        "boolean" => match text_of(typed)?.as_str() {
            "0" => Ok(Value::Boolean(false)),
            "1" => Ok(Value::Boolean(true)),
            other => Err(CodecError::BadBoolean(other.to_owned())),
        },
        "double" => {
            let text = text_of(typed)?;
            text.trim()
                .parse::<f64>()
                .map(Value::Double)
                .map_err(|_| CodecError::BadDouble(text))
        }
        "dateTime.iso8601" => text_of(typed).map(Value::DateTime),
        "base64" => {
            let text = text_of(typed)?;
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            BASE64
                .decode(compact.as_bytes())
                .map(Value::Base64)
                .map_err(|_| CodecError::BadBase64)
        }
        "nil" => {
            if text_of(typed)?.trim().is_empty() {
                Ok(Value::Nil)
            } else {
                Err(CodecError::UnexpectedText {
                    parent: "nil".to_owned(),
                })
            }
        }
        "array" => parse_array(typed, depth),
        "struct" => parse_struct(typed, depth),
        other => Err(CodecError::UnknownType(other.to_owned())),
    }
}

/// Python's `int()` on the element text: surrounding whitespace and a sign are accepted.
fn parse_int(text: &str) -> Result<i64, CodecError> {
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodecError::BadInt(text.to_owned()));
    }
    trimmed
        .parse::<i64>()
        .map_err(|_| CodecError::BadInt(text.to_owned()))
}

fn parse_array(array: Node<'_, '_>, depth: usize) -> Result<Value, CodecError> {
    let children = element_children(array)?;
    // The spec wraps items in <data>; accept values placed directly in <array> as well.
    let items = match children.as_slice() {
        [data] if data.tag_name().name() == "data" => element_children(*data)?,
        _ => children,
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        expect_name(item, "value", "data")?;
        out.push(parse_value(item, depth + 1)?);
    }
    Ok(Value::Array(out))
}

fn parse_struct(node: Node<'_, '_>, depth: usize) -> Result<Value, CodecError> {
    let mut members = Vec::new();
    for member in element_children(node)? {
        expect_name(member, "member", "struct")?;
        let mut name = None;
        let mut value = None;
        for part in element_children(member)? {
            match part.tag_name().name() {
                "name" if name.is_none() => name = Some(text_of(part)?),
                "value" if value.is_none() => value = Some(parse_value(part, depth + 1)?),
                other => {
                    return Err(CodecError::UnexpectedElement {
                        found: other.to_owned(),
                        parent: "member".to_owned(),
                    });
                }
            }
        }
        let name = name.ok_or(CodecError::MissingMemberName)?;
        let value = value.ok_or(CodecError::MissingValue {
            parent: "member".to_owned(),
        })?;
        members.push((name, value));
    }
    Ok(Value::Struct(members))
}

// ---------------------------------------------------------------------------------------------
// Encoder. Every byte below mirrors CPython's `xmlrpc.client.Marshaller` (3.x), including its
// quirk of writing `<value><nil/></value>` with no newline after it.

const HEADER: &str = "<?xml version='1.0'?>\n";

/// A successful `methodResponse` carrying one value, as `dumps((value,), methodresponse=True)`.
pub fn encode_response(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(HEADER);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    write_value(&mut out, value);
    out.push_str("</param>\n</params>\n</methodResponse>\n");
    out
}

/// A fault response, as `dumps(Fault(code, message))`: faultCode first, then faultString.
pub fn encode_fault(code: i32, message: &str) -> String {
    let mut out = String::with_capacity(256 + message.len());
    out.push_str(HEADER);
    out.push_str("<methodResponse>\n<fault>\n");
    write_value(
        &mut out,
        &Value::Struct(vec![
            ("faultCode".to_owned(), Value::Int(i64::from(code))),
            ("faultString".to_owned(), Value::string(message)),
        ]),
    );
    out.push_str("</fault>\n</methodResponse>\n");
    out
}

/// A `methodCall`, as `dumps(params, method_name)`, except that the method name is escaped
/// (Python writes it raw, which yields broken XML for names containing `<` or `&`).
pub fn encode_method_call(method_name: &str, params: &[Value]) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(HEADER);
    out.push_str("<methodCall>\n<methodName>");
    escape_into(&mut out, method_name);
    out.push_str("</methodName>\n<params>\n");
    for param in params {
        out.push_str("<param>\n");
        write_value(&mut out, param);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Nil => out.push_str("<value><nil/></value>"),
        Value::Boolean(b) => {
            out.push_str(if *b {
                "<value><boolean>1</boolean></value>\n"
            } else {
                "<value><boolean>0</boolean></value>\n"
            });
        }
        Value::Int(i) => {
            let tag = if i32::try_from(*i).is_ok() {
                "int"
            } else {
                "i8"
            };
            out.push_str(&format!("<value><{tag}>{i}</{tag}></value>\n"));
        }
        Value::Double(d) => {
            out.push_str("<value><double>");
            out.push_str(&python_float_repr(*d));
            out.push_str("</double></value>\n");
        }
        Value::String(s) => {
            out.push_str("<value><string>");
            escape_into(out, s);
            out.push_str("</string></value>\n");
        }
        Value::DateTime(s) => {
            // Python writes the text raw; escaping changes nothing for real ISO 8601 text and
            // keeps the output well-formed for anything else.
            out.push_str("<value><dateTime.iso8601>");
            escape_into(out, s);
            out.push_str("</dateTime.iso8601></value>\n");
        }
        Value::Base64(bytes) => {
            // base64.encodebytes: 57 input bytes (76 output characters) per line, each line
            // ended by a newline.
            out.push_str("<value><base64>\n");
            for chunk in bytes.chunks(57) {
                out.push_str(&BASE64.encode(chunk));
                out.push('\n');
            }
            out.push_str("</base64></value>\n");
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>\n");
            for item in items {
                write_value(out, item);
            }
            out.push_str("</data></array></value>\n");
        }
        Value::Struct(members) => {
            out.push_str("<value><struct>\n");
            for (name, member) in members {
                out.push_str("<member>\n<name>");
                escape_into(out, name);
                out.push_str("</name>\n");
                write_value(out, member);
                out.push_str("</member>\n");
            }
            out.push_str("</struct></value>\n");
        }
    }
}

/// Python's `xml.sax.saxutils.escape` without extra entities: only `&`, `<` and `>`.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip (Rust's `{:e}` finds the same
/// digits), in positional notation when the decimal exponent is in -4..16, else as `1e+16`.
pub(crate) fn python_float_repr(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let sci = format!("{:e}", d.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if d < 0.0 { "-" } else { "" };

    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{exp_sign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = exp as usize + 1;
    if digits.len() <= int_len {
        let zeros = "0".repeat(int_len - digits.len());
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (int_part, frac) = digits.split_at(int_len);
        format!("{sign}{int_part}.{frac}")
    }
}
