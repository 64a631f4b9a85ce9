"""pshare: run one unchanged multithreaded Linux program across the nodes of a cluster.

The user-facing program is ``pshare-launch`` (launcher/pshare_launch.py); this
package is the agent it runs on every MPI rank.  See docs/ARCHITECTURE.md.
"""
__version__ = "0.1.0"
