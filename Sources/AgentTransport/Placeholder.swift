enum AgentTransportPlaceholder {}
