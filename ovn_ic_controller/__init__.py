"""ovn-ic-controller: an OVN interconnection controller daemon in pure Python."""

__version__ = "0.1.0"
