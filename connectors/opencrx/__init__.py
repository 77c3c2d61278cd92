"""The openCRX connector: contacts of the account1 model both ways, over openCRX's REST servlet."""
