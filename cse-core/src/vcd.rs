//! Typed vCD XML documents shared by the vCD client and the simulator.
