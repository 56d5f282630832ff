"""The bidder-side tool (``ggzy-client``): seal, unwrap, sign, sign in with a certificate.

No Django here: keys stay on the bidder's machine. The envelope format and the key primitives
live in this package and the server (``ggzy.trust``) imports them, so the format is written once.
"""

__version__ = "0.1.0"
