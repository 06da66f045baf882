from console_service.app import main

main()
