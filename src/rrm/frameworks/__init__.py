"""The reference vocabularies analysts and partners share, loaded from data RRM ships.

- ``rrm.frameworks.disarm``: DISARM red techniques and blue countermeasures (CC BY-SA 4.0, DISARM Foundation);
- ``rrm.frameworks.tlp``: the Traffic Light Protocol 2.0 and its STIX 2.1 marking definitions;
- ``rrm.frameworks.admiralty``: the Admiralty (NATO) source reliability and information credibility code;
- ``rrm.frameworks.breakout``: Ben Nimmo's Breakout Scale;
- ``rrm.frameworks.exposure``: the EEAS FIMI exposure matrix, and other compiled vocabularies.
"""

from __future__ import annotations
