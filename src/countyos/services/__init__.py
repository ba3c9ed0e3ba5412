"""一网通办: government service matters (事项), applications (办件), 好差评 and 电子监察 (GB/T 39046-2020)."""
