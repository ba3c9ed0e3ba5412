"""智慧公共安全 and 智慧交通: emergency plans and command, resources, hidden-danger inspections, camera-detected
events, road segments, parking and road incidents."""
