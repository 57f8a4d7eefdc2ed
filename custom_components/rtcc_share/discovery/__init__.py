"""Finding cameras on the owner's LAN: WS-Discovery probes and ONVIF device look-ups."""
