"""The Meta connector: lead ads and campaign reporting in, custom audiences out (Graph API)."""
