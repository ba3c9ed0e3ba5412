"""长效运营: the programme itself — modules switched on by phase, projects and their funding models, contracts
with KPIs computed from the records, pay for performance, the 盆景 index, and ecosystem partners."""
