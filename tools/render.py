"""Readable text views of decoded messages for the terminal (``smemu decode --format tree``).

Layer: tools. Values are shown as people read them: EUI-64s with dashes, counters in
decimal and hex, message codes with their use case id and title.
"""

from __future__ import annotations

from typing import Any

from smemu.protocols.gbcs.inspect import Inspection

_FRAME_NAMES = {
    "mac-header": "MAC header (general-ciphering) around a grouping header",
    "general-signing": "grouping header (general-signing), no MAC header",
    "gbt-block": "GBT block (general-block-transfer routing header)",
}


def _hex_preview(hex_text: str, limit: int = 48) -> str:
    raw = bytes.fromhex(hex_text)
    shown = raw[:limit].hex(" ").upper()
    return shown + (f" ... ({len(raw)} bytes)" if len(raw) > limit else "")


def render_tree(result: Inspection) -> str:
    """Render one inspection as an indented field list."""
    data: dict[str, Any] = result.to_json()
    lines = [f"{result.source}  ({result.length} bytes)"]
    if result.message is None:
        lines.extend(f"  error        {e}" for e in result.errors)
        return "\n".join(lines) + "\n"
    title = data.get("use_case_name") or "unknown message code"
    lines.append(f"  {data.get('use_case') or '?'}  {title}  (message code {data['message_code']})")
    rows: list[tuple[str, str]] = [
        ("frame", _FRAME_NAMES[data["frame"]]),
        ("cra", data["cra"]),
        ("counter", f"{data['counter']} (0x{data['counter']:016X})"),
        ("originator", data["originator"]),
        ("recipient", data["recipient"]),
    ]
    if "other_information" in data:
        rows.append(("date-time", data["date_time"] or "absent"))
        oi = {k: v for k, v in data["other_information"].items() if v is not None}
        if not oi:
            rows.append(("other info", "message code only"))
        for key, value in oi.items():
            label = key.replace("supplementary_", "supp. ").replace("_", " ")
            shown = _hex_preview(value, 16) if key.endswith("certificate") else str(value)
            rows.append(("other info", f"{label}: {shown}"))
        rows.append(
            ("payload", f"{data['payload_family'].upper()}: {_hex_preview(data['payload_hex'])}")
        )
        rows.append(("signature", f"{data['signature']} (element {data['signature_element']})"))
    else:
        block = data["block"]
        rows.append(
            ("block", f"{block['number']} (ack {block['ack']}){' last' if block['last'] else ''}")
        )
        rows.append(("block data", _hex_preview(block["data_hex"])))
    rows.append(("MAC", data["mac"]))
    rows.append(("encryption", data["decryption"]))
    for number, plain in enumerate(data.get("decrypted_hex", []), start=1):
        rows.append((f"plaintext {number}", _hex_preview(plain)))
    rows.append(("re-encode", data["reencode"]))
    rows.extend(("error", e) for e in result.errors)
    info = data.get("use_case_info")
    if info:
        who = ", ".join(info["roles"]) if info["roles"] is not None else "see GBCS"
        devices = ", ".join(info["devices"]) or "-"
        rows.insert(
            0,
            ("use case", f"{info['kind']}, {info['criticality'] or '?'}; devices {devices}; "
             f"senders {who or '-'}"),
        )  # fmt: skip
    lines.extend(f"  {name:<12} {value}" for name, value in rows)
    if data.get("payload") is not None:
        lines.append(f"  typed payload  (undecoded bytes: {data['undecoded_bytes']})")
        lines.extend(_tree(data["payload"], "    "))
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, str) and len(value) > 96:
        return value[:96] + f"... ({len(value)} chars)"
    return "null" if value is None else str(value)


def _tree(value: Any, indent: str, limit: int = 400) -> list[str]:
    """An indented view of a JSON tree: scalar leaves inline, long lists cut at ``limit``."""
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{indent}{key}:")
                lines.extend(_tree(item, indent + "  ", limit))
            else:
                lines.append(f"{indent}{key}: {_scalar(item if item != [] else '[]')}")
    elif isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value) and len(value) <= 16:
            return [f"{indent}[{', '.join(_scalar(v) for v in value)}]"]
        for number, item in enumerate(value[:limit]):
            if isinstance(item, (dict, list)):
                lines.append(f"{indent}- [{number}]")
                lines.extend(_tree(item, indent + "  ", limit))
            else:
                lines.append(f"{indent}- {_scalar(item)}")
        if len(value) > limit:
            lines.append(f"{indent}... {len(value) - limit} more")
    else:
        lines.append(f"{indent}{_scalar(value)}")
    return lines
