"""DER payloads: security credentials, join / unjoin, firmware and device logs."""
