"""Tables of the resources (物资仓库, 救援队伍, 避难场所, 专家) of the plans part of the safety domain."""
