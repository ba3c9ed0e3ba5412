"""数字乡村: agriculture from field to buyer (producers, 基地, 农事, batches, 承诺达标合格证, trace codes,
产供销) and culture-tourism (scenic spots with live visitor flows, 民宿, events, culture resources)."""
