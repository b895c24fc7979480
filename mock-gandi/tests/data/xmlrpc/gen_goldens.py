#!/usr/bin/env python3
"""Regenerates the XML-RPC golden files from CPython's xmlrpc.client.

The Rust tests compare the encoder's output with these files byte for byte; they never run
Python. Run this script from its own folder after changing a case, and mirror the change in
mock-gandi/tests/xmlrpc_codec.rs.
"""
import random
import struct
import xmlrpc.client as x

KEY40 = "23e501f7a1b2c3d4e5f60718293a4b5c6d7e960b"

FAULTS = {
    "fault_510042.xml": x.Fault(
        510042,
        "Error on object : OBJECT_DOMAIN (CAUSE_NOTFOUND) "
        "[Domain 'thisisadomainidonotown.com' doesn't exist.]",
    ),
    "fault_500037_pat.xml": x.Fault(
        500037,
        "Error on object : OBJECT_UNKNOWN (CAUSE_BADPARAMETER) "
        f"[string '{KEY40}' does not match '^[a-z0-9]{{24}}$']",
    ),
    "fault_escaped.xml": x.Fault(1, "Invalid XMLRPC input: <&> 'q' \"d\""),
}

RESPONSES = {
    "int_6.xml": 6,
    "int_negative_min.xml": -(2**31),
    "boolean_true.xml": True,
    "boolean_false.xml": False,
    "string_escapes.xml": "a&b<c>d \"q\" 'a' \u00e9\u4e2d\U0001f600\t\r\n end",
    "string_empty.xml": "",
    "double_one_and_a_half.xml": 1.5,
    "datetime.xml": x.DateTime("20180613T12:03:58"),
    "base64_empty.xml": x.Binary(b""),
    "base64_long.xml": x.Binary(bytes(range(256)) * 2),
    "array_nested.xml": [1, "a", [], [True, [None, None]], {"k": None}],
    "struct_empty.xml": {},
    "struct_domain_info.xml": {
        "fqdn": "stubber.chat",
        "id": 3084498,
        "zone_id": 3386877,
        "date_updated": x.DateTime("20180613T12:03:58"),
        "nameservers": ["a.dns.gandi.net", "b.dns.gandi.net", "c.dns.gandi.net"],
        "services": ["gandidns"],
        "tags": [],
        "reseller": None,
        "contacts": {"owner": {"handle": "PG5332-GANDI", "id": 1508037}},
        "a&b<c>": 0.25,
    },
}


def main():
    for name, fault in FAULTS.items():
        with open(name, "w", newline="") as f:
            f.write(x.dumps(fault))
    for name, value in RESPONSES.items():
        with open(name, "w", newline="") as f:
            f.write(x.dumps((value,), methodresponse=True, allow_none=True))
    with open("call_domain_info.xml", "w", newline="") as f:
        f.write(x.dumps(("0123456789abcdefghijklmn", "stubber.chat."), "domain.info"))

    # repr(float) for edge cases and random bit patterns: "<hex bits> <repr>" per line.
    rng = random.Random(20261128)
    values = [0.0, -0.0, 1.0, -1.0, 0.1, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5,
              0.00012345, 123456789012345678.0, 5e-324, 1.7976931348623157e308,
              float("inf"), float("-inf"), 2.5e-7, 100.0, 1234.5, 3.0e22]
    for _ in range(400):
        values.append(struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0])
    for _ in range(200):
        values.append(round(rng.uniform(-1e6, 1e6), rng.randint(0, 8)))
    with open("float_repr.txt", "w") as f:
        for v in values:
            if v != v:
                continue  # NaN payloads all print "nan"; checked separately
            bits = struct.unpack("<Q", struct.pack("<d", v))[0]
            f.write(f"{bits:016x} {repr(v)}\n")


if __name__ == "__main__":
    main()
