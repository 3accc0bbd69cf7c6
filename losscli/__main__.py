from losscli.entry import main

main()
