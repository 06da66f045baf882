"""Where Kafka comes in: the batch subscribers (`subscribers`) and the manual-create
requests (`commands`)."""
