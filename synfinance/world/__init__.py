"""The world transactions happen in, fixed before any is generated: the plan, its calendar and networks, the frame.

Generation (synfinance.generation) and the patterns (synfinance.patterns) both build on this layer; it
imports neither of them.
"""
