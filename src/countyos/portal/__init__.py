"""一网通享: the residents' front door — accounts by phone code, my county, notices and 村务公开."""
