"""Services of the residents' portal: accounts and codes, consents, personal data, messages, notices."""
