#!/usr/bin/env python3
"""End to end: the web console in headless Chromium against the live stack.

Run under tests/support/with_stack.sh (it sets SWITCHYARD_BASE_URL). Drives a real flow through
the page a person would use: upstream health, create a user, write and read data, submit a job
and watch it succeed, delete the user. Saves a screenshot of the page after the flow to the path
in SWITCHYARD_SCREENSHOT (default console.png in the current directory).
"""

import os
import sys
import time
import uuid

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["SWITCHYARD_BASE_URL"]
SCREENSHOT = os.environ.get("SWITCHYARD_SCREENSHOT", "console.png")


def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def row_text(driver, table_body_id):
    return driver.find_element(By.ID, table_body_id).text


def main():
    run = uuid.uuid4().hex[:8]
    email = f"console-{run}@example.com"
    driver = browser()
    wait = WebDriverWait(driver, 15)
    step = "open"
    try:
        driver.get(BASE + "/")
        assert driver.title == "Switchyard console", driver.title

        step = "health shows every upstream SERVING"
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#health span.serving")) >= 3)
        assert not driver.find_elements(By.CSS_SELECTOR, "#health span.down")

        step = "create a user"
        driver.find_element(By.ID, "user-name").send_keys("Console User")
        driver.find_element(By.ID, "user-email").send_keys(email)
        driver.find_element(By.ID, "user-create").click()
        wait.until(lambda d: email in row_text(d, "user-rows"))

        step = "a duplicate email shows the gateway's error"
        driver.find_element(By.ID, "user-name").send_keys("Again")
        driver.find_element(By.ID, "user-email").send_keys(email)
        driver.find_element(By.ID, "user-create").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "user-error"), "409"))

        step = "write and read data"
        key = f"console/{run}"
        driver.find_element(By.ID, "data-key").send_keys(key)
        driver.find_element(By.ID, "data-value").send_keys("hello from the console")
        driver.find_element(By.ID, "data-put").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "data-result"), '"version": "1"'))
        driver.find_element(By.ID, "data-value").clear()
        driver.find_element(By.ID, "data-get").click()
        wait.until(lambda d: d.find_element(By.ID, "data-value").get_attribute("value")
                   == "hello from the console")

        step = "submit users.report and watch it succeed"
        Select(driver.find_element(By.ID, "job-type")).select_by_value("users.report")
        driver.find_element(By.ID, "job-submit").click()
        WebDriverWait(driver, 30).until(
            lambda d: "users.report SUCCEEDED" in row_text(d, "job-rows"))

        driver.save_screenshot(SCREENSHOT)

        step = "delete the user"
        row = driver.find_element(By.XPATH, f"//tbody[@id='user-rows']/tr[td[text()='{email}']]")
        row.find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: email not in row_text(d, "user-rows"))
        print(f"ok: console flow passed; screenshot in {SCREENSHOT}")
        return 0
    except (AssertionError, TimeoutException) as error:
        driver.save_screenshot(SCREENSHOT)
        print(f"FAIL at step '{step}': {error!r}; screenshot in {SCREENSHOT}", file=sys.stderr)
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
