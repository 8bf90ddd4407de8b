from api.indexer.cli import main

main()
