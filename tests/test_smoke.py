from __future__ import annotations

import trustproxy


def test_sample_forged_request_resolves_to_the_proxy_appended_address() -> None:
    result = trustproxy.Resolver().resolve(
        "127.0.0.1", [("X-Forwarded-For", "6.6.6.6, 203.0.113.9")]
    )
    assert result.status == trustproxy.APPLIED
    assert result.client == "203.0.113.9"
