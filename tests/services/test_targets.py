import pytest

from services import targets


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://example.com/", "http:// or https://"),
        ("example.com/health", "http:// or https://"),
        ("http:///health", "no host"),
        ("http://example.com:99999/", "1 and 65535"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://[::ffff:169.254.169.254]/", "metadata"),
    ],
)
def test_bad_http_urls(value: str, message: str) -> None:
    with pytest.raises(targets.TargetError, match=message):
        targets.parse_http_url(value)


def test_good_http_url() -> None:
    assert targets.parse_http_url(" https://shop.internal:8443/health ") == (
        "https://shop.internal:8443/health"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("db.internal", "host:port"),
        ("db.internal:0", "out of range"),
        ("db.internal:70000", "out of range"),
        ("169.254.1.1:80", "metadata"),
    ],
)
def test_bad_host_port(value: str, message: str) -> None:
    with pytest.raises(targets.TargetError, match=message):
        targets.parse_host_port(value)


def test_host_port_ipv6() -> None:
    assert targets.parse_host_port("[::1]:6379") == targets.HostPort("::1", 6379)


@pytest.mark.parametrize(
    "value", ["host=db port=5432 dbname=x", "postgres://u:p@db:5432/x", "postgresql:///x"]
)
def test_good_dsns(value: str) -> None:
    targets.parse_postgres_dsn(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("host=db port", "Cannot parse"),
        ("postgres://u:p@db:99999/x", "out of range"),
        ("host=169.254.169.254 dbname=x", "metadata"),
    ],
)
def test_bad_dsns(value: str, message: str) -> None:
    with pytest.raises(targets.TargetError, match=message):
        targets.parse_postgres_dsn(value)


def test_redact_hides_passwords() -> None:
    assert targets.redact("postgres://app:s3cret@db:5432/shop") == "postgres://app:***@db:5432/shop"
    assert targets.redact("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert targets.redact("host=db password=s3cret dbname=x") == "host=db password=*** dbname=x"


@pytest.mark.parametrize(("value", "expected"), [("200", (200, 200)), ("200-399", (200, 399))])
def test_expected_status(value: str, expected: tuple[int, int]) -> None:
    assert targets.parse_expected_status(value) == expected


@pytest.mark.parametrize("value", ["2xx", "399-200", "99", "700"])
def test_bad_expected_status(value: str) -> None:
    with pytest.raises(targets.TargetError):
        targets.parse_expected_status(value)
