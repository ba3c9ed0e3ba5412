"""智慧生态: air and water indices, 河长制/林长制 patrols, ecosystem assets, ESV and GEP accounts."""
