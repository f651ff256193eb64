"""Everything that patches or subclasses private parts of the ``ovs`` library."""
