"""myorisk: prediction of non-response to therapy in polymyositis / dermatomyositis.

Layers (imports point downward only):

- ``myorisk.modeling`` — the general statistical engine (any binary outcome).
- ``myorisk.myositis``, ``myorisk.published``, ``myorisk.datasets`` — the myositis domain.
- ``myorisk.cli``, ``myorisk.report``, ``myorisk.web`` — thin faces.
"""

__version__ = "0.1.0"
