"""Tables of the information reports and reviews (信息报送, 复盘) part of the safety domain."""
