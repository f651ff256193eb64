"""controller.conf parsing: remotes, defaults, overrides, errors, and round trips."""

import dataclasses
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovn_ic_controller import config
from ovn_ic_controller.config import ConfigError

IC = {"ic-db-host": "10.0.0.1"}


def write(tmp_path, text, name="controller.conf"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def load_text(tmp_path, body):
    return config.load(write(tmp_path, "[controller]\n" + body))


# ------------------------------------------------------------------ remotes

def test_several_hosts_make_one_clustered_remote(tmp_path):
    conf = load_text(tmp_path, "ic-db-host =  10.0.0.1 ,   fd00::1\n")
    assert conf.ic_db_host == ("10.0.0.1", "fd00::1")
    assert conf.ic_nb_remote == "tcp:10.0.0.1:6645,tcp:[fd00::1]:6645"
    assert conf.ic_sb_remote == "tcp:10.0.0.1:6646,tcp:[fd00::1]:6646"
    assert conf.remotes["ic_nb"] == conf.ic_nb_remote


def test_hosts_may_be_names_or_bracketed_ipv6_and_ports_and_scheme_apply(tmp_path):
    conf = load_text(tmp_path, "ic-db-host = ic-1.example.org,[FD00::0:2],10.0.0.3\n"
                               "ic-nb-port = 7645\nic-sb-port = 7646\n")
    assert conf.ic_nb_remote == "tcp:ic-1.example.org:7645,tcp:[fd00::2]:7645,tcp:10.0.0.3:7645"
    assert conf.ic_sb_remote == "tcp:ic-1.example.org:7646,tcp:[fd00::2]:7646,tcp:10.0.0.3:7646"


def test_ssl_scheme_with_keys_builds_ssl_remotes(tmp_path):
    conf = load_text(tmp_path, "ic-db-host = 10.0.0.1,10.0.0.2\nic-db-scheme = ssl\n"
                               "ssl-private-key = /k.pem\nssl-certificate = /c.pem\n"
                               "ssl-ca-cert = /ca.pem\n")
    assert conf.ic_nb_remote == "ssl:10.0.0.1:6645,ssl:10.0.0.2:6645"
    assert conf.uses_ssl


def test_full_remotes_override_host_and_port(tmp_path):
    conf = load_text(tmp_path, "ic-db-host = 10.0.0.1\nic-nb-port = 1\n"
                               "ic-nb-db = tcp:192.0.2.1:16645 , tcp:[fd00::9]:16645\n"
                               "ic-sb-db = unix:/run/ic/sb.sock\n")
    assert conf.ic_nb_remote == "tcp:192.0.2.1:16645,tcp:[fd00::9]:16645"
    assert conf.ic_sb_remote == "unix:/run/ic/sb.sock"


def test_full_remotes_make_ic_db_host_unnecessary(tmp_path):
    conf = load_text(tmp_path, "ic-nb-db = unix:/a.sock\nic-sb-db = unix:/b.sock\n")
    assert conf.ic_db_host == ()
    assert conf.remotes == {"nb": "unix:/var/run/ovn/ovnnb_db.sock",
                            "sb": "unix:/var/run/ovn/ovnsb_db.sock",
                            "ic_nb": "unix:/a.sock", "ic_sb": "unix:/b.sock"}


def test_defaults(tmp_path):
    conf = load_text(tmp_path, "ic-db-host = 10.0.0.1\n")
    assert conf.enable_ic is True
    assert conf.az_name == ""
    assert (conf.ic_nb_port, conf.ic_sb_port) == (6645, 6646)
    assert conf.ic_db_scheme == "tcp"
    assert (conf.ic_nb_db, conf.ic_sb_db) == ("", "")
    assert conf.ovn_nb_db == "unix:/var/run/ovn/ovnnb_db.sock"
    assert conf.ovn_sb_db == "unix:/var/run/ovn/ovnsb_db.sock"
    assert conf.gw_nodes == ()
    assert conf.auto_route is None
    assert (conf.ssl_private_key, conf.ssl_certificate, conf.ssl_ca_cert) == ("", "", "")
    assert conf.metrics_address == ("127.0.0.1", 9476)
    assert conf.probe_interval_ms is None
    assert not conf.uses_ssl
    assert conf.path.endswith("controller.conf")


def test_values_are_parsed(tmp_path):
    conf = load_text(tmp_path, "enable-ic = No\naz-name =  east \nic-db-host = 10.0.0.1\n"
                               "gw-nodes = gw1, gw2 ,,gw1\nauto-route = on\n"
                               "metrics-address = [::1]:0\nprobe-interval-ms = 0\n")
    assert conf.enable_ic is False
    assert conf.az_name == "east"
    assert conf.gw_nodes == ("gw1", "gw2")
    assert conf.auto_route is True
    assert conf.metrics_address == ("::1", 0)
    assert conf.probe_interval_ms == 0


def test_empty_file_without_ic_hosts_is_an_error_and_a_disabled_ic_needs_none(tmp_path):
    with pytest.raises(ConfigError, match="key 'ic-db-host' = ''"):
        config.load(write(tmp_path, ""))
    assert config.load(write(tmp_path, "[controller]\nenable-ic = false\n")).enable_ic is False


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("body, key, value, expected", [
    ("enable-ic = maybe", "enable-ic", "maybe", "a boolean"),
    ("auto-route = sometimes", "auto-route", "sometimes", "a boolean"),
    ("ic-nb-port = 70000", "ic-nb-port", "70000", "a TCP port number from 1 to 65535"),
    ("ic-sb-port = 0", "ic-sb-port", "0", "a TCP port number from 1 to 65535"),
    ("ic-sb-port = http", "ic-sb-port", "http", "a TCP port number"),
    ("ic-db-host = 10.0.0.999", "ic-db-host", "10.0.0.999", "host names or IP addresses"),
    ("ic-db-host = bad_host!", "ic-db-host", "bad_host!", "host names or IP addresses"),
    ("ic-db-host = 10.0.0.1,,10.0.0.2", "ic-db-host", "10.0.0.1,,10.0.0.2", "none empty"),
    ("ic-db-host = [10.0.0.1", "ic-db-host", "[10.0.0.1", "host names or IP addresses"),
    ("ic-db-scheme = http", "ic-db-scheme", "http", "one of tcp, ssl"),
    ("ic-nb-db = 10.0.0.1:6645", "ic-nb-db", "10.0.0.1:6645", "an OVSDB remote"),
    ("metrics-address = 9476", "metrics-address", "9476", "HOST:PORT"),
    ("probe-interval-ms = 10", "probe-interval-ms", "10", "0 (off) or at least 1000"),
])
def test_bad_value_names_file_key_value_and_expectation(tmp_path, body, key, value, expected):
    hosts = "" if key == "ic-db-host" else "ic-db-host = 10.0.0.1\n"
    path = write(tmp_path, f"[controller]\n{hosts}{body}\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: key '{key}' = '{value}': expected ")
    assert expected in message
    assert "\n" not in message
    assert info.value.exit_code == 78


def test_unknown_key_suggests_the_closest(tmp_path):
    path = write(tmp_path, "[controller]\nic-db-host = 10.0.0.1\naz-nmae = east\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: unknown key 'az-nmae' = 'east': expected ")
    assert message.endswith("did you mean 'az-name'?")


def test_unknown_key_without_a_close_one_has_no_suggestion():
    with pytest.raises(ConfigError) as info:
        config.from_mapping({**IC, "zzzzzz": "1"}, "f.conf")
    assert "unknown key 'zzzzzz'" in str(info.value)
    assert "did you mean" not in str(info.value)


def test_keys_are_case_sensitive(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'AZ-NAME'"):
        load_text(tmp_path, "ic-db-host = 10.0.0.1\nAZ-NAME = east\n")


@pytest.mark.parametrize("missing", ["ssl-private-key", "ssl-certificate", "ssl-ca-cert"])
def test_ssl_scheme_needs_key_cert_and_ca(tmp_path, missing):
    keys = {"ssl-private-key": "/k.pem", "ssl-certificate": "/c.pem", "ssl-ca-cert": "/ca.pem"}
    keys[missing] = ""
    body = "ic-db-host = 10.0.0.1\nic-db-scheme = ssl\n" + "".join(
        f"{key} = {value}\n" for key, value in keys.items())
    path = write(tmp_path, "[controller]\n" + body)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value) == (f"{path}: key '{missing}' = '': expected a file path, "
                               f"because ssl: remotes are configured")


def test_an_ssl_remote_needs_the_keys_too():
    with pytest.raises(ConfigError, match="key 'ssl-private-key' = ''"):
        config.from_mapping({**IC, "ic-sb-db": "ssl:10.0.0.1:6646"})


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.conf")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert str(info.value).startswith(f"{path}: file not found")


def test_not_an_ini_file_and_a_foreign_section(tmp_path):
    with pytest.raises(ConfigError, match="not a valid INI file"):
        config.load(write(tmp_path, "ic-db-host = 10.0.0.1\n"))
    with pytest.raises(ConfigError, match=r"unknown section \[ovn\]"):
        config.load(write(tmp_path, "[controller]\nic-db-host = 10.0.0.1\n[ovn]\na = b\n"))


def test_a_value_continued_over_two_lines_is_reported_on_one(tmp_path):
    path = write(tmp_path, "[controller]\nic-db-host = 10.0.0.1\n  10.0.0.2\n")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert "\n" not in str(info.value)
    assert "key 'ic-db-host' = '10.0.0.1\\n10.0.0.2'" in str(info.value)


# ------------------------------------------------------------- round trips

def test_check_config_output_is_the_effective_configuration(tmp_path):
    conf = load_text(tmp_path, "az-name = east\nic-db-host = 10.0.0.1, fd00::1\n"
                               "gw-nodes = gw1,gw2\nmetrics-address = [::1]:9000\n")
    text = conf.render()
    lines = text.splitlines()
    assert lines[0] == f"# effective configuration from {conf.path}"
    assert "az-name = east" in lines
    assert "ic-db-host = 10.0.0.1,fd00::1" in lines
    assert "ic-nb-port = 6645" in lines
    assert "enable-ic = true" in lines
    assert "metrics-address = [::1]:9000" in lines
    assert "# ic-nb-db in effect: tcp:10.0.0.1:6645,tcp:[fd00::1]:6645" in lines
    assert "# ic-sb-db in effect: tcp:10.0.0.1:6646,tcp:[fd00::1]:6646" in lines
    for option in config.OPTIONS:
        assert any(line.split(" =")[0] == option.key for line in lines), option.key
    # What check-config prints is itself a valid file meaning the same.
    again = config.load(write(tmp_path, text, "effective.conf"))
    assert dataclasses.replace(again, path=conf.path) == conf


def test_sample_config_parses_back_once_ic_db_host_is_filled_in(tmp_path):
    sample = config.sample()
    for option in config.OPTIONS:
        assert re.search(rf"^{option.key} =", sample, re.M), option.key
    with pytest.raises(ConfigError, match="ic-db-host"):
        config.load(write(tmp_path, sample, "as-is.conf"))
    filled, count = re.subn(r"^ic-db-host =[ \t]*$", "ic-db-host = 10.0.0.1", sample, flags=re.M)
    assert count == 1
    conf = config.load(write(tmp_path, filled, "sample.conf"))
    defaults = config.from_mapping(IC, conf.path)
    assert conf == defaults
    assert conf.ic_nb_remote == "tcp:10.0.0.1:6645"


# ------------------------------------------------- files that are not text

def write_bytes(tmp_path, data, name="controller.conf"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


GOOD = b"[controller]\nic-db-host = 10.0.0.1\n"


def load_error(path):
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message and len(message) < len(path) + 600, message
    assert info.value.exit_code == 78
    return message


def test_latin1_names_the_byte_its_offset_and_line(tmp_path):
    path = write_bytes(tmp_path, GOOD + "az-name = café\n".encode("latin-1"))
    assert load_error(path) == (f"{path}: not UTF-8 text: byte 0xe9 at offset 48 (line 3) "
                                f"(save it as UTF-8)")
    path = write_bytes(tmp_path, b"\xef\xbb\xbf" + GOOD + "az-name = café\n".encode("latin-1"))
    assert "byte 0xe9 at offset 51 (line 3)" in load_error(path)  # counted with the UTF-8 BOM


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_or_32_with_a_byte_order_mark_says_so(tmp_path, encoding):
    data = GOOD.decode().encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = write_bytes(tmp_path, data)
    assert "starts with a UTF-16 byte-order mark" in load_error(path)


def test_utf8_with_a_byte_order_mark_and_crlf_lines_is_read(tmp_path):
    path = write_bytes(tmp_path, b"\xef\xbb\xbf" + GOOD.replace(b"\n", b"\r\n")
                       + b"az-name = caf\xc3\xa9\r")
    conf = config.load(path)
    assert (conf.ic_db_host, conf.az_name) == (("10.0.0.1",), "café")


@pytest.mark.parametrize("char, shown", [("\0", r"'\x00'"), ("\x1b", r"'\x1b'"),
                                         ("\x7f", r"'\x7f'"), ("\x9b", r"'\x9b'"),
                                         ("\f", r"'\x0c'")])
def test_a_control_character_is_named_with_its_line_and_column(tmp_path, char, shown):
    path = write_bytes(tmp_path, GOOD + f"az-name = a{char}[31mb\n".encode())
    assert load_error(path) == (f"{path}: line 3, column 12: control character {shown}; "
                                f"only tab and newline may appear")


def test_tabs_are_not_control_characters(tmp_path):
    assert config.load(write_bytes(tmp_path, GOOD + b"az-name =\teast\t\n")).az_name == "east"


def test_what_is_not_a_regular_file_is_refused_without_reading_it(tmp_path):
    os.mkfifo(tmp_path / "fifo")  # no writer: reading would block for ever
    assert load_error(str(tmp_path / "fifo")).endswith(": cannot read: not a regular file")
    assert load_error(str(tmp_path)).endswith(": cannot read: a directory")
    assert load_error("/dev/zero").endswith(": cannot read: not a regular file")


def test_symlinks_are_followed_and_a_loop_or_a_dangling_one_is_an_error(tmp_path):
    good = write_bytes(tmp_path, GOOD, "good.conf")
    (tmp_path / "link").symlink_to(good)
    assert config.load(str(tmp_path / "link")).ic_db_host == ("10.0.0.1",)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert load_error(str(tmp_path / "a")).endswith(
        ": cannot read: Too many levels of symbolic links")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert ": file not found" in load_error(str(tmp_path / "dangling"))


def test_a_huge_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MAX_FILE_BYTES", 1 << 20)
    assert config.load(write_bytes(tmp_path, GOOD.ljust(1 << 20, b"#")))
    assert load_error(write_bytes(tmp_path, GOOD.ljust((1 << 20) + 1, b"#"))).endswith(
        ": larger than 1 MiB: not a configuration file")


# --------------------------------------------- values quoted in error lines

def test_control_characters_in_a_value_are_escaped():
    value = "\x1b[2J\x1b]0;pwned\x07 'y\\\u202e"
    with pytest.raises(ConfigError) as info:
        config.from_mapping({**IC, "enable-ic": value}, "f")
    message = str(info.value)
    assert message == ("f: key 'enable-ic' = '\\x1b[2J\\x1b]0;pwned\\x07 \\'y\\\\\\u202e': "
                       "expected a boolean (true/false, yes/no, on/off, 1/0)")


def test_a_10mb_value_or_key_is_cut_in_the_error(tmp_path):
    huge = "y" * 10_000_000
    path = write_bytes(tmp_path, GOOD + f"enable-ic = {huge}\n".encode())
    message = load_error(path)
    assert f"key 'enable-ic' = '{'y' * 200}'… (9999800 more characters): expected a boolean" \
        in message
    path = write_bytes(tmp_path, GOOD + f"{huge} = 1\n".encode())
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert f"unknown key '{'y' * 200}'… (9999800 more characters) = '1': expected " in message
    assert len(message) < 500 + len(path)


@pytest.mark.parametrize("body", ["y" * 10_000_000 + " = 1\n",
                                  "[controller]\n" + "y" * 10_000_000 + "\n"])
def test_a_10mb_line_configparser_rejects_is_cut_too(tmp_path, body):
    message = load_error(write_bytes(tmp_path, body.encode()))
    assert "not a valid INI file" in message and "more characters)" in message


# ---------------------------------------------------------------- fuzzing

def _parses_or_config_error(path):
    try:
        assert isinstance(config.load(path), config.Config)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_parse_or_raise_config_error(tmp_path_factory, data):
    _parses_or_config_error(write_bytes(tmp_path_factory.mktemp("fuzz"), data))


LINES = st.one_of(
    st.sampled_from([f"{option.key} =" for option in config.OPTIONS]).flatmap(
        lambda key: st.text(max_size=30).map(lambda value: f"{key} {value}")),
    st.text(max_size=40),
    st.binary(max_size=20).map(lambda data: data.decode("latin-1")))


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(LINES, max_size=8), encoding=st.sampled_from(["utf-8", "latin-1"]))
def test_random_lines_under_the_header_parse_or_raise_config_error(tmp_path_factory, lines,
                                                                    encoding):
    text = "[controller]\nic-db-host = 10.0.0.1\n" + "\n".join(lines)
    data = text.encode(encoding, errors="replace")
    _parses_or_config_error(write_bytes(tmp_path_factory.mktemp("fuzz"), data))


# ------------------------------------------------------------- [router NAME]

ROUTERS = ("[controller]\nic-db-host = 10.0.0.1\ngw-nodes = gw1\nno-advertise = 10.9.0.0/16\n"
           "[router vpc-a]\nts-prefix = a-ts\nts-num = 2\ngw-nodes = gw2, gw3\n"
           "no-advertise = 10.50.0.0/24\n"
           "[router  vpc-b ]\n")


def test_router_sections_with_their_defaults(tmp_path):
    conf = config.load(write(tmp_path, ROUTERS))
    assert [(r.name, r.ts_prefix, r.ts_num, r.gw_nodes, r.no_advertise)
            for r in conf.automated_routers] == [
        ("ovn-cluster", "ts", 1, ("gw1",), ("10.9.0.0/16",)),
        ("vpc-a", "a-ts", 2, ("gw2", "gw3"), ("10.50.0.0/24",)),
        ("vpc-b", "vpc-b-ts", 1, ("gw1",), ())]
    assert conf.automated_routers[1].switch_names() == ["a-ts", "a-ts1"]
    assert conf.all_gw_nodes == ("gw1", "gw2", "gw3")
    assert config.from_mapping(IC).routers == ()  # none: the cluster router alone


def test_router_sections_round_trip_through_check_config(tmp_path):
    conf = config.load(write(tmp_path, ROUTERS))
    text = conf.render()
    assert "[router vpc-a]\nts-prefix = a-ts\nts-num = 2\ngw-nodes = gw2,gw3\n" in text
    assert "[router vpc-b]\nts-prefix = vpc-b-ts\n" in text
    again = config.load(write(tmp_path, text, "effective.conf"))
    assert dataclasses.replace(again, path=conf.path) == conf


@pytest.mark.parametrize(("section", "message"), [
    ("[router vpc-a]\nauto-route = true\n",
     r"\[router vpc-a\]: key 'auto-route' = 'true': expected in \[controller\] only"),
    ("[router vpc-a]\nts-nmu = 2\n",
     r"\[router vpc-a\]: unknown key 'ts-nmu' = '2': expected one of ts-prefix, ts-num"),
    ("[router vpc-a]\nts-num = 0\n", r"\[router vpc-a\]: key 'ts-num' = '0': expected a whole"),
    ("[router vpc-a]\nts-prefix = vpc7\n",
     r"\[router vpc-a\]: key 'ts-prefix' = 'vpc7': expected .* not ending in a digit"),
    ("[router vpc-a]\nts-prefix = ts\n",
     r"\[router vpc-a\]: key 'ts-prefix' = 'ts': expected a prefix no other router uses "
     r"\(router 'ovn-cluster' has it\)"),
    ("[router vpc-a]\nno-advertise = 10.0.0.0/33\n",
     r"\[router vpc-a\]: key 'no-advertise' = '10.0.0.0/33'"),
    ("[router ovn-cluster]\n", r"\[router ovn-cluster\]: this is the cluster-router"),
    ("[router]\n", r"unknown section \[router\]"),
    ("[router vpc-a]\n[router  vpc-a]\n",
     r"section \[router  vpc-a\]: router 'vpc-a' has a section already"),
])
def test_router_section_errors_name_the_section_and_key(tmp_path, section, message):
    with pytest.raises(ConfigError, match=message) as info:
        config.load(write(tmp_path, "[controller]\nic-db-host = 10.0.0.1\n" + section))
    assert info.value.exit_code == config.EX_CONFIG


def test_the_sample_shows_the_router_section_format():
    sample = config.sample()
    assert "# [router NAME]\n" in sample
    for option in config.ROUTER_OPTIONS:
        assert f"\n# {option.key} =" in sample
