from citypass.demo.cli import main

main()
