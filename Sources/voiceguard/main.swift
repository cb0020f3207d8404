import VoiceGuardCLI

await VoiceGuardCommand.runMain()
