"""Services of the plans and resources (预案, 演练, 物资仓库, 救援队伍, 避难场所, 专家) part of the safety domain."""
