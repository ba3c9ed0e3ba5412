"""Services of the traffic (路段, 停车场, 道路事件) part of the safety domain."""
