@echo off
rem examples\demo.cmd - the README's demo on Windows (examples/demo is
rem the Unix one): a broker on a named pipe of its own starts
rem echo-backend.exe for a client's Hello, verifies it, answers, says what
rem it runs, then stops it and exits.  Runs as it is on Windows 10 1809+
rem and under Wine:
rem
rem   examples\demo.cmd                    the .exe files in build-win\bin
rem   set RP_BIN=C:\path\to\bin & examples\demo.cmd
rem
rem Everything it makes lives in a directory of its own under %TEMP%,
rem removed at the end.  Exit 0 when every step worked, else 1.
setlocal
set "B=%~dp0..\build-win\bin"
if not "%RP_BIN%"=="" set "B=%RP_BIN%"
if not exist "%B%\rp-broker.exe" (
	echo demo: %B%\rp-broker.exe is not built; run 'make windows' 1>&2
	exit /b 2
)
set "WORK=%TEMP%\rpdemo-%RANDOM%%RANDOM%"
set "PIPE=rpdemo-%RANDOM%%RANDOM%"
rem The definitions' directory: made private by rp-servicedef itself.
set "RUNNING_PROCESS_SERVICE_DEF_DIR=%WORK%\services"
mkdir "%WORK%"
if not exist "%WORK%\" exit /b 1

echo.
echo 1. a service definition: the broker will start echo-backend.exe for 'echo'
echo ^> rp-servicedef write --service echo --binary %B%\echo-backend.exe
"%B%\rp-servicedef.exe" write --service echo --binary "%B%\echo-backend.exe"
if errorlevel 1 goto fail

echo.
echo 2. the broker, on the named pipe \\.\pipe\%PIPE%
echo ^> start /b rp-broker -s %PIPE%
start "" /b "%B%\rp-broker.exe" -s %PIPE%
"%B%\rp-probe.exe" admin healthz -s %PIPE% --wait-for-socket
if errorlevel 1 goto fail

echo.
echo 3. a client's Hello: the broker starts the backend, checks who it is
echo    (pid, executable, its BLAKE3) and answers with the backend's pipe
echo ^> rp-probe hello -s %PIPE% --service echo --version 1.0.0
"%B%\rp-probe.exe" hello -s %PIPE% --service echo --version 1.0.0
if errorlevel 1 goto fail

echo.
echo 4. the backend's health, as the broker probes it again
echo ^> rp-probe admin backend-health -s %PIPE%
"%B%\rp-probe.exe" admin backend-health -s %PIPE%
if errorlevel 1 goto fail

echo.
echo 5. stop: the broker drains, stops its backend (its Job Object) and exits
echo ^> rp-probe admin shutdown -s %PIPE%
"%B%\rp-probe.exe" admin shutdown -s %PIPE%
if errorlevel 1 goto fail
rmdir /s /q "%WORK%"
echo.
echo demo: done
exit /b 0

:fail
echo demo: a step failed 1>&2
"%B%\rp-probe.exe" admin shutdown -s %PIPE% >nul 2>&1
rmdir /s /q "%WORK%"
exit /b 1
