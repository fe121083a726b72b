"""Contract monitoring: the monitor, its checks, and how severe a finding is."""
