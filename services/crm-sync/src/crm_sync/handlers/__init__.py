"""crm-sync's use cases: `sync` (conversations, parked chats), `create_record` (manual
create), and the `engine` and `outputs` they run on."""
