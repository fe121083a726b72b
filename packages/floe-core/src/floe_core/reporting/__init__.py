"""SLA compliance reports from the monitoring-state database (``floe sla report``)."""
