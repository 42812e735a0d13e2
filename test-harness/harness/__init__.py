"""causalkv black-box test harness: real node processes in network namespaces."""
