"""MAC addresses: the usual spellings are accepted and stored one way; addresses that
never identify one device are refused with a clear message."""

import pytest

from devices.mac import MacError, mac_parse


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("AA-BB-CC-DD-EE-01", "AA:BB:CC:DD:EE:01"),
        ("aa-bb-cc-dd-ee-01", "AA:BB:CC:DD:EE:01"),
        ("aabb.ccdd.ee02", "AA:BB:CC:DD:EE:02"),
        ("AABB.CCDD.EE02", "AA:BB:CC:DD:EE:02"),
        ("aabbccddee03", "AA:BB:CC:DD:EE:03"),
        ("AaBbCcDdEe03", "AA:BB:CC:DD:EE:03"),
        ("00:1a:2b:3c:4d:5e", "00:1A:2B:3C:4D:5E"),
        ("  00:1A:2B:3C:4D:5E  ", "00:1A:2B:3C:4D:5E"),
    ],
)
def test_usual_spellings_give_the_canonical_form(spelling, canonical):
    assert mac_parse(spelling).canonical == canonical


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        ("ff:ff:ff:ff:ff:ff", "broadcast", "broadcast address"),
        ("FFFF.FFFF.FFFF", "broadcast", "broadcast address"),
        ("01:00:5e:00:00:01", "multicast", "multicast"),
        ("33-33-00-00-00-01", "multicast", "multicast"),
        ("00:00:00:00:00:00", "zero", "all-zero address"),
        ("zz", "invalid", "is not a MAC address"),
        ("aa:bb-cc:dd:ee:ff", "invalid", "is not a MAC address"),
        ("aa:bb:cc:dd:ee", "invalid", "is not a MAC address"),
        ("aa:bb:cc:dd:ee:ff:00", "invalid", "is not a MAC address"),
        ("aabbccddeef", "invalid", "is not a MAC address"),
        ("aabbccddeeff0", "invalid", "is not a MAC address"),
        ("aabb.ccdd.eeff.0011", "invalid", "is not a MAC address"),
        ("gg:bb:cc:dd:ee:ff", "invalid", "is not a MAC address"),
        ("", "invalid", "is not a MAC address"),
    ],
)
def test_what_is_not_one_device_is_refused_with_a_message(value, code, words):
    with pytest.raises(MacError) as caught:
        mac_parse(value)
    assert caught.value.code == code
    assert words in " ".join(caught.value.messages)


def test_the_message_for_a_non_mac_quotes_what_was_typed():
    with pytest.raises(MacError) as caught:
        mac_parse("zz")
    assert "“zz”" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("value", "randomised"),
    [
        ("02:00:00:00:00:01", True),
        ("AA:BB:CC:DD:EE:01", True),
        ("DE:AD:BE:EF:00:01", True),
        ("00:1A:2B:3C:4D:5E", False),
        ("3C:22:FB:00:00:01", False),
    ],
)
def test_locally_administered_addresses_are_randomised(value, randomised):
    assert mac_parse(value).is_randomised is randomised
