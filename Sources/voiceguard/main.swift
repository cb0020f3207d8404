import VoiceGuardCLI

VoiceGuardCommand.main()
